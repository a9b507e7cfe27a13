"""Fixtures the pytest files share."""

import os

import pytest

import stampede


@pytest.fixture(scope="module")
def binary():
    """The stampede binary: next to the in-tree module (build/stampede for build/python), or
    $STAMPEDE_BIN."""
    path = os.environ.get("STAMPEDE_BIN") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(stampede.__file__)))), "stampede"
    )
    assert os.access(path, os.X_OK), f"stampede binary not found at {path} (set STAMPEDE_BIN)"
    return path
