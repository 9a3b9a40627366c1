# troad_library(NAME SOURCES ... DEPS ...): a library target troad_NAME for src/NAME.
function(troad_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(troad_${name} STATIC ${ARG_SOURCES})
  target_include_directories(troad_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(troad_${name} PUBLIC ${ARG_DEPS} PRIVATE troad_options)
endfunction()

# troad_test(NAME SOURCES ... DEPS ...): a GoogleTest executable registered with ctest.
function(troad_test name)
  if(NOT TROAD_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main troad_options)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
