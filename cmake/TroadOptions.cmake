# Warning and sanitizer settings live on INTERFACE targets, not global flags.
add_library(troad_warnings INTERFACE)
target_compile_options(troad_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual
  -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false -Wrestrict positives inside libstdc++'s std::string at -O3
  # (GCC bug 105329); the warning says nothing about our code there.
  # At -O2 it also reports Asio's coroutine frames (allocated by Asio's own operator
  # new, freed by its matching operator delete) as mismatched new/delete.
  target_compile_options(troad_warnings INTERFACE -Wno-restrict -Wno-mismatched-new-delete)
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  target_compile_options(troad_warnings INTERFACE -Wthread-safety)
endif()
if(TROAD_WARNINGS_AS_ERRORS)
  target_compile_options(troad_warnings INTERFACE -Werror)
endif()

add_library(troad_sanitizers INTERFACE)
if(TROAD_ENABLE_ASAN)
  target_compile_options(troad_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(troad_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# Common compile settings for every troad target.
add_library(troad_options INTERFACE)
target_link_libraries(troad_options INTERFACE troad_warnings troad_sanitizers)
target_compile_definitions(troad_options INTERFACE
  BOOST_ASIO_NO_DEPRECATED
  BOOST_ASIO_DISABLE_BOOST_COROUTINE
  # Asio and Beast are compiled once, in src/http/asio_impl.cpp, instead of in
  # every translation unit that includes them: this halves build times.
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION)
