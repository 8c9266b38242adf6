#pragma once
// Internal to src/server: hands an upgraded connection from the HTTP session (which validated
// the upgrade request and built the 101 response) to a subscribeLabels session.
#include <boost/asio/ip/tcp.hpp>

#include <string>

#include "src/server/state.hpp"

namespace labeler::server {

// Takes ownership of `socket` (on its strand) and runs a subscribeLabels session. `target` is
// the request target (it carries the cursor); `handshake` is the serialized 101 response, which
// the session writes only once it is registered with the hub, so every label committed after
// the client has read the 101 reaches it; `leftover` holds bytes the client sent after its
// upgrade request, which belong to the WebSocket stream.
void start_subscribe_session(server::state& st, boost::asio::ip::tcp::socket socket,
                             std::string target, std::string handshake, std::string leftover,
                             connection_slot slot);

}  // namespace labeler::server
