// A move-only, type-erased completion handler, called exactly once as
// `std::move(handler)(args...)`.
//
// It wraps boost::asio::any_completion_handler because Asio 1.26's move assignment
// recurses forever (it copies the source through its own converting constructor);
// this wrapper assigns by construct-and-swap instead. Behaviour otherwise matches.
#pragma once

#include <type_traits>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>

namespace mpiod {

template <class... Args>
class Completion {
public:
    Completion() = default;

    template <class F>
    requires(!std::is_same_v<std::decay_t<F>, Completion> && std::is_invocable_v<F&, Args...>)
        Completion(F&& f) // NOLINT(google-explicit-constructor): handlers convert implicitly
        : handler_(std::forward<F>(f)) {}

    Completion(Completion&& other) noexcept = default;

    Completion& operator=(Completion&& other) noexcept {
        Handler(std::move(other.handler_)).swap(handler_);
        return *this;
    }

    Completion(const Completion&) = delete;
    Completion& operator=(const Completion&) = delete;
    ~Completion() = default;

    explicit operator bool() const noexcept { return static_cast<bool>(handler_); }

    void operator()(Args... args) && { std::move(handler_)(std::forward<Args>(args)...); }

private:
    using Handler = boost::asio::any_completion_handler<void(Args...)>;
    Handler handler_;
};

} // namespace mpiod
