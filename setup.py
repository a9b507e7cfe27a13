"""pip install . — builds the C++ extension stampede._core with CMake (python/CMakeLists.txt)
and bundles the robots (assets/) and task configs (configs/) as stampede/data.

Extra CMake arguments come from the CMAKE_ARGS environment variable, e.g.
    CMAKE_ARGS="-DSTAMPEDE_WITH_CUDA=OFF" pip install .
"""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        target = Path(self.get_ext_fullpath(ext.name)).resolve()
        build_dir = Path(self.build_temp).resolve() / "cmake"
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DSTAMPEDE_BUILD_TESTS=OFF",
            "-DSTAMPEDE_BUILD_PYTHON=ON",
            "-DSTAMPEDE_NATIVE=OFF",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ] + shlex.split(os.environ.get("CMAKE_ARGS", ""))
        subprocess.check_call(configure)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "stampede_python_core",
                               "-j", jobs])
        built = sorted((build_dir / "python" / "stampede").glob("_core*.so"))
        if not built:
            raise RuntimeError(f"the CMake build made no stampede/_core*.so under {build_dir}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[0], target)


class BuildPyWithData(build_py):
    """Adds assets/ and configs/ to the package as stampede/data/."""

    def run(self):
        super().run()
        data = Path(self.build_lib) / "stampede" / "data"
        for name in ("assets", "configs"):
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, data / name, dirs_exist_ok=True)


setup(
    ext_modules=[CMakeExtension("stampede._core")],
    cmdclass={"build_ext": CMakeBuild, "build_py": BuildPyWithData},
    zip_safe=False,
)
