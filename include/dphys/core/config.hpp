// dphys/core/config.hpp — reflected configuration, all of it: declare a config with
// BOOST_HANA_DEFINE_STRUCT (or BOOST_HANA_ADAPT_STRUCT) and get rules and validate
// (config_check.hpp), JSON (config_json.hpp) and
// `--key=value` overrides and help text (config_cli.hpp). Extension points: a config's `check`
// member, and `enum_names` for enum fields (enum_names.hpp). Headers that only declare a config
// need config_check.hpp.
#pragma once

#include <dphys/core/config_check.hpp>
#include <dphys/core/config_cli.hpp>
#include <dphys/core/config_json.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/error.hpp>
#include <dphys/core/reflect.hpp>
