#pragma once
// RunBlocking: run a blocking function on a thread pool from a coroutine, and resume the
// coroutine on its own executor with the result. I/O threads never wait on SQLite or disk.

#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <type_traits>
#include <utility>

namespace thaw {

template <typename F>
boost::asio::awaitable<std::invoke_result_t<F>> RunBlocking(boost::asio::thread_pool& pool, F fn) {
  using R = std::invoke_result_t<F>;
  // The result travels in an optional because Result<T> has no default constructor.
  std::optional<R> out;
  co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
      [&pool, &fn, &out](auto handler) {
        boost::asio::post(pool, [&fn, &out, handler = std::move(handler)]() mutable {
          out.emplace(fn());
          auto ex = boost::asio::get_associated_executor(handler);
          boost::asio::dispatch(ex, std::move(handler));
        });
      },
      boost::asio::use_awaitable);
  co_return std::move(*out);
}

}  // namespace thaw
