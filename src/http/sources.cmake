# rs_http: the HTTP server (libevent evhttp) and the async client on the same loop:
# an HTTP/1.1 keep-alive pool for http:// to IP addresses (Debian's http-parser)
# and libcurl multi for everything else; and a unary gRPC client over HTTP/2
# cleartext (nghttp2) for apps that speak gRPC, and the strict protobuf decode both
# gRPC sides use (protobuf-c).
find_library(HTTP_PARSER_LIB http_parser REQUIRED)
find_path(HTTP_PARSER_INCLUDE http_parser.h REQUIRED)
add_library(rs_http STATIC
  src/http/server.c
  src/http/client.c
  src/http/h1_client.c
  src/http/curl_client.c
  src/http/wire.c
  src/http/grpc_client.c
  src/http/grpc_wire.c
  src/http/h2_pool.c
  src/http/pb_decode.c
)
# libcurl's headers only: curl_client.c opens libcurl.so.4 on first use (dlopen), see there why.
target_include_directories(rs_http PRIVATE ${HTTP_PARSER_INCLUDE} ${CURL_INCLUDE_DIRS})
target_link_libraries(rs_http PUBLIC rs_core PkgConfig::LIBEVENT PkgConfig::NGHTTP2 PkgConfig::PROTOBUFC ${HTTP_PARSER_LIB} ${CMAKE_DL_LIBS})
