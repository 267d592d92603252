# rs_http: the HTTP server (libevent evhttp) and async client (libcurl multi on the same loop).
add_library(rs_http STATIC
  src/http/server.c
  src/http/client.c
)
target_link_libraries(rs_http PUBLIC rs_core PkgConfig::LIBEVENT PkgConfig::CURL)
