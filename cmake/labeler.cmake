# labeler_module(NAME name DIR dir LIBS ...): one library per folder, sources globbed from the
# folder (and its sub-folders), alias labeler::<name>, includes written from the repo root.
function(labeler_module)
  cmake_parse_arguments(M "" "NAME" "LIBS;SUBDIRS" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  foreach(sub IN LISTS M_SUBDIRS)
    file(GLOB _sub CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${sub}/*.cpp)
    list(APPEND _srcs ${_sub})
  endforeach()
  if(_srcs)
    add_library(labeler_${M_NAME} STATIC ${_srcs})
    target_include_directories(labeler_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(labeler_${M_NAME} PUBLIC ${M_LIBS})
  else()
    add_library(labeler_${M_NAME} INTERFACE)
    target_include_directories(labeler_${M_NAME} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(labeler_${M_NAME} INTERFACE ${M_LIBS})
  endif()
  add_library(labeler::${M_NAME} ALIAS labeler_${M_NAME})
endfunction()

# labeler_test(NAME name SOURCES ... LIBS ...): a Catch2 v2 test executable whose cases are
# listed individually by ctest (catch_discover_tests). Test data paths are passed as defines.
function(labeler_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE labeler_catch_main ${T_LIBS})
  target_compile_definitions(${T_NAME} PRIVATE
    LABELER_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    LABELER_FIXTURE_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures"
    LABELER_BINARY_DIR="${PROJECT_BINARY_DIR}")
  catch_discover_tests(${T_NAME} TEST_PREFIX "${T_NAME}: " PROPERTIES TIMEOUT 300)
endfunction()
