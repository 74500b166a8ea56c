// The one translation unit that compiles Asio, Asio's SSL layer and Beast (separate compilation;
// see BOOST_ASIO_SEPARATE_COMPILATION in net/CMakeLists.txt). Keeping it alone keeps rebuilds fast.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
