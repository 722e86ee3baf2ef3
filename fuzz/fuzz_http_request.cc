// HTTP/1.1 request parsing as thaw's server configures it (Beast, header and body limits), fed
// in two pieces to exercise incremental parsing.
#include <boost/beast/http.hpp>

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t split = size == 0 ? 0 : data[0] % (size + 1);
  size_t used = parser.put(boost::asio::buffer(data, split), ec);
  if (!ec || ec == http::error::need_more) {
    ec = {};
    parser.put(boost::asio::buffer(data + used, size - used), ec);
  }
  if (parser.is_header_done()) {
    const auto& req = parser.get();
    (void)req.target();
    (void)req.find(http::field::content_type);
  }
  return 0;
}
