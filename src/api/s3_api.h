#pragma once
// The embedded S3 subset and STS GetCallerIdentity on thaw's port (docs/ARCHITECTURE.md § S3).
//
// A request is S3's when its SigV4 scope names the service `s3`, or when it is unsigned and none
// of thaw's other APIs; STS's when its scope names `sts` or it is an unsigned form POST with
// Action=GetCallerIdentity. Decisions (routing, names, ranges, listing pages, aws-chunked) are
// the pure code of src/s3; this layer reads the wire, runs the file effects on the blocking pool
// and writes S3's XML. PUT bodies stream into a temporary file through a BodySink chosen from
// the header (SinkFor), so an object never sits in memory; GET bodies stream from the file.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>

#include "api/http_server.h"
#include "api/http_types.h"
#include "auth/sigv4.h"
#include "common/arn.h"
#include "s3/object_store.h"

namespace thaw::api {

// The SigV4 service a request's Authorization header (or X-Amz-Credential query) names; "" when
// unsigned or unparsable.
std::string SignedService(const Request& request);
bool IsStsRequest(const Request& request);

class S3Api {
 public:
  S3Api(s3::ObjectStore& store, boost::asio::thread_pool& blocking, Identity identity);

  // The sink a PutObject / UploadPart body streams into; null for other requests. `credential`:
  // the key whose signature the gate accepted (null with --auth none), for aws-chunked chunk
  // signatures.
  std::shared_ptr<BodySink> SinkFor(const Request& header, const auth::Credential* credential);

  // A sink that drops the body (a request refused before its body is read).
  static std::shared_ptr<BodySink> Discard();

  boost::asio::awaitable<Response> Handle(Request& request, RequestContext& context);
  // STS GetCallerIdentity (awsQuery).
  Response CallerIdentity(const Request& request, const RequestContext& context,
                          const auth::Credential* credential) const;

 private:
  Response HandleSync(Request& request, RequestContext& context);

  s3::ObjectStore& store_;
  boost::asio::thread_pool& blocking_;
  const Identity identity_;
};

}  // namespace thaw::api
