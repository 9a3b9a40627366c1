// The one translation unit that compiles Asio, Asio's SSL support and Beast:
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION are defined
// for every troad target, so every other file sees only declarations.
//
// At -O2 and above GCC 12 reports a "potential null pointer dereference" inside
// Asio's scheduler (thread_info after a check it cannot see through); the code is
// Boost's, so the warning is silenced here rather than failing -Werror builds.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#pragma GCC diagnostic pop
