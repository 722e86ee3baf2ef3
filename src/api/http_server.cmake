set(THAW_HTTP_SERVER_SOURCES http_server.cc)
