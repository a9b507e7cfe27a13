// The one Catch2 main every test executable links against (built once).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
