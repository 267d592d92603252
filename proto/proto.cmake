# The protobuf messages of the gRPC API (proto/**/*.proto, written for Ripstop
# with Dapr's packages, names and field numbers). protoc-c generates the C code
# at build time into the build tree; nothing generated is committed.
find_program(PROTOC_C protoc-c REQUIRED)
file(GLOB_RECURSE RS_PROTO_FILES CONFIGURE_DEPENDS RELATIVE ${CMAKE_SOURCE_DIR}/proto ${CMAKE_SOURCE_DIR}/proto/*.proto)
set(RS_PROTO_OUT ${CMAKE_BINARY_DIR}/proto)
set(RS_PROTO_SOURCES)
set(RS_PROTO_HEADERS)
foreach(p ${RS_PROTO_FILES})
  string(REGEX REPLACE "\\.proto$" "" stem ${p})
  list(APPEND RS_PROTO_SOURCES ${RS_PROTO_OUT}/${stem}.pb-c.c)
  list(APPEND RS_PROTO_HEADERS ${RS_PROTO_OUT}/${stem}.pb-c.h)
endforeach()
list(TRANSFORM RS_PROTO_FILES PREPEND ${CMAKE_SOURCE_DIR}/proto/ OUTPUT_VARIABLE RS_PROTO_PATHS)
add_custom_command(
  OUTPUT ${RS_PROTO_SOURCES} ${RS_PROTO_HEADERS}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${RS_PROTO_OUT}
  COMMAND ${PROTOC_C} --c_out=${RS_PROTO_OUT} -I ${CMAKE_SOURCE_DIR}/proto ${RS_PROTO_PATHS}
  DEPENDS ${RS_PROTO_PATHS}
  COMMENT "protoc-c: generating the gRPC API's messages"
  VERBATIM)
add_library(rs_proto STATIC ${RS_PROTO_SOURCES})
target_include_directories(rs_proto PUBLIC ${RS_PROTO_OUT})
target_link_libraries(rs_proto PUBLIC PkgConfig::PROTOBUFC)
