// detail::StateSet's hash set, past its first few entries (task/task.hpp).
#include <tulip/task/task.hpp>

#include <unordered_set>

namespace tulip::detail {

struct StateSet::Big {
    std::unordered_set<const FutureStateBase*> set;
};

StateSet::StateSet(std::size_t expected) : expected_(expected) {}
StateSet::~StateSet() = default;

bool StateSet::insert_big(const FutureStateBase* s) {
    if (!big_) {
        big_ = make_owned<Big>();
        if (expected_ > kSmall) big_->set.reserve(expected_);
        big_->set.insert(small_.begin(), small_.end());
    }
    return big_->set.insert(s).second;
}

}  // namespace tulip::detail
