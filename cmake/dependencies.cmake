# Every dependency comes from a Debian 12 package (see .ci/install-deps). Nothing is vendored.
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 EXACT REQUIRED CONFIG COMPONENTS system url json)
find_package(OpenSSL 3 REQUIRED)
find_package(RocksDB REQUIRED CONFIG)
find_package(simdjson REQUIRED CONFIG)
find_package(prometheus-cpp REQUIRED CONFIG)
find_package(tomlplusplus REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBCBOR REQUIRED IMPORTED_TARGET libcbor)
pkg_check_modules(LIBSECP256K1 REQUIRED IMPORTED_TARGET libsecp256k1)
pkg_check_modules(LIBZSTD REQUIRED IMPORTED_TARGET libzstd)
# labeler::allocator: jemalloc when LABELER_JEMALLOC is on. Nothing calls it by name, so it is
# linked --no-as-needed: its malloc/free interpose glibc's in the whole process.
add_library(labeler_allocator INTERFACE)
add_library(labeler::allocator ALIAS labeler_allocator)
if(LABELER_JEMALLOC)
  pkg_check_modules(JEMALLOC REQUIRED jemalloc)
  target_link_libraries(labeler_allocator INTERFACE
    "-Wl,--push-state,--no-as-needed" ${JEMALLOC_LINK_LIBRARIES} "-Wl,--pop-state")
endif()
if(LABELER_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED CONFIG)
  include(Catch)
endif()

# Boost.Asio/Beast settings shared by every translation unit that includes them.
add_library(labeler_boost INTERFACE)
target_link_libraries(labeler_boost INTERFACE Boost::boost Boost::system Threads::Threads)
target_compile_definitions(labeler_boost INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW BOOST_ASIO_DISABLE_BOOST_COROUTINE)
