# rs_core: small helpers shared by every program (no I/O policy).
add_library(rs_core STATIC
  src/core/log.c
  src/core/buf.c
  src/core/duration.c
  src/core/encoding.c
  src/core/fs.c
  src/core/clock.c
  src/core/ids.c
  src/core/port_reserve.c
  src/core/json_util.c
  src/core/json_scan.c
  src/core/str.c
  src/core/yaml.c
)
target_link_libraries(rs_core PUBLIC PkgConfig::JANSSON PkgConfig::FYAML PkgConfig::CRYPTO)
