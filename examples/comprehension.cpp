// comprehension.cpp — asynchronous comprehensions (PEP 530), spelled in C++.
//
// The Python originals:
//
//     result = [i async for i in agen()]                       # (1)
//     result = [i async for i in agen() if i % 2]              # (2)
//     result = [await f() async for f in funcs if await smth]  # (3)
//
// C++ has no comprehensions and no `async for`. An async generator is a
// tulip::AsyncGenerator<T> (a coroutine that co_yields), and `async for` is
// a loop over co_await gen.next(), which gives std::optional<T> — empty when
// the generator is exhausted:
//
//     auto gen = agen();
//     while (auto i = co_await gen.next()) { ... *i ... }
//
// (1), which keeps every value, is tulip::asyncgen::collect(agen()). (2) and
// (3) are that loop with an `if` (and `await`s) inside. Like the Python, they run one item
// at a time: each await finishes before the next item is fetched. To run
// things side by side, use gather().
//
// `smth` is the seed's placeholder for "any awaitable condition"; here it is
// an async lookup of whether a source is enabled, asked once per item.
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include <tulip/tulip.hpp>

#include "examples.hpp"

namespace {

using namespace std::chrono_literals;

// async def agen(): for i in range(6): await asyncio.sleep(0.001); yield i
tulip::AsyncGenerator<int> agen() {
    for (int i = 0; i < 6; ++i) {
        co_await tulip::sleep(1ms);  // an async generator may await between values
        co_yield i;
    }
}

// Four "sources" to fetch from: coroutine functions.
tulip::Coro<std::string> fetch_weather() {
    co_await tulip::sleep(1ms);
    co_return "weather: sunny";
}
tulip::Coro<std::string> fetch_news() {
    co_await tulip::sleep(1ms);
    co_return "news: tulip 1.0 released";
}
tulip::Coro<std::string> fetch_ads() {
    co_await tulip::sleep(1ms);
    co_return "ads: buy now!";
}
tulip::Coro<std::string> fetch_sports() {
    co_await tulip::sleep(1ms);
    co_return "sports: 2-1";
}

using Fetch = tulip::Coro<std::string> (*)();

// `funcs`: an async iterable of coroutine functions (say, discovered one by one).
tulip::AsyncGenerator<Fetch> funcs() {
    static constexpr Fetch kSources[] = {&fetch_weather, &fetch_news, &fetch_ads, &fetch_sports};
    for (Fetch f : kSources) {
        co_await tulip::sleep(0);
        co_yield f;
    }
}

// `smth`: an awaitable condition (say, a settings lookup): ads are turned off.
tulip::Coro<bool> smth(Fetch f) {
    co_await tulip::sleep(0);
    co_return f != &fetch_ads;
}

template <class T>
void print_list(const char* label, const std::vector<T>& v) {
    std::printf("%s [", label);
    for (std::size_t i = 0; i < v.size(); ++i) {
        if constexpr (std::is_same_v<T, std::string>)
            std::printf("%s'%s'", i ? ", " : "", v[i].c_str());
        else
            std::printf("%s%d", i ? ", " : "", v[i]);
    }
    std::printf("]\n");
}

tulip::Coro<int> amain() {
    // (1) [i async for i in agen()]
    std::vector<int> all = co_await tulip::asyncgen::collect(agen());
    print_list("[i async for i in agen()]              ->", all);

    // (2) [i async for i in agen() if i % 2]
    std::vector<int> odd;
    auto gen = agen();
    while (auto i = co_await gen.next())
        if (*i % 2) odd.push_back(*i);
    print_list("[i async for i in agen() if i % 2]     ->", odd);

    // (3) [await f() async for f in funcs if await smth]
    std::vector<std::string> result;
    auto fs = funcs();
    while (auto f = co_await fs.next()) {       // async for f in funcs
        bool keep = co_await smth(*f);          //   if await smth (named first:
        if (keep)                               //   GCC 12 miscompiles co_await inside an if)
            result.push_back(co_await (*f)());  //     await f()
    }
    print_list("[await f() async for f in funcs if await smth] ->", result);

    bool ok = all == std::vector<int>{0, 1, 2, 3, 4, 5} && odd == std::vector<int>{1, 3, 5} && result.size() == 3 &&
              result[2] == "sports: 2-1";
    co_return ok ? 0 : 1;
}

}  // namespace

int examples::comprehension() { return tulip::run(amain()); }

#ifndef TULIP_DEMO
int main() { return examples::comprehension(); }
#endif
