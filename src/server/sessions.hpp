#pragma once
// Internal to src/server: hands an upgraded connection from the HTTP session to a WebSocket
// (subscribeLabels) session. Lives in websocket.cpp so Beast's WebSocket templates are
// compiled in one translation unit.
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "src/server/state.hpp"

namespace labeler::server {

// Takes ownership of `stream` (on its strand) and runs a subscribeLabels session for `req`.
void start_subscribe_session(server::state& st, boost::beast::tcp_stream stream,
                             boost::beast::http::request<boost::beast::http::string_body> req);

}  // namespace labeler::server
