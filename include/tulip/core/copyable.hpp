// tulip/core/copyable.hpp — copyable_result_v<T>: whether a stored result
// can be handed to a second reader as a copy (internal).
//
// std::is_copy_constructible lies for containers: vector<unique_ptr<X>>
// declares a copy constructor that does not compile. A result type counts as
// copyable only if it and (recursively) its value_type are.
#pragma once

#include <type_traits>

namespace tulip::detail {

template <class T, class = void>
struct CopyableResult : std::is_copy_constructible<T> {};
template <class T>
struct CopyableResult<T, std::void_t<typename T::value_type>>
    : std::conjunction<std::is_copy_constructible<T>, std::disjunction<std::is_same<typename T::value_type, T>,
                                                                       CopyableResult<typename T::value_type>>> {};

template <class T>
inline constexpr bool copyable_result_v = std::is_void_v<T> || CopyableResult<T>::value;

}  // namespace tulip::detail
