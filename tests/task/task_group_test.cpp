// Tests of TaskGroup (asyncio.TaskGroup), ported from CPython's
// Lib/test/test_asyncio/test_taskgroups.py.
//
// asyncio's `async with TaskGroup() as g:` is `co_await task_group(body)`
// here; `except* E` becomes a catch of ExceptionGroup and a look at
// exceptions(). MyExc/ZeroDivisionError/ValueError map to distinct standard
// exception types.
#include <tulip/task/task_group.hpp>

#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "support/coro_helpers.hpp"
#include "support/loop_test.hpp"

namespace task_task_group_test {

using namespace tulip;
using test::value_after;

namespace {

class TaskGroupTest : public test::LoopTest {};

struct MyExc : std::runtime_error {
    MyExc() : std::runtime_error("MyExc") {}
};

Coro<void> nap(double delay) { co_await sleep(delay); }

// Python's `1 / 0` after a sleep.
Coro<void> crash_after(double delay) {
    co_await sleep(delay);
    throw std::domain_error("division by zero");
}

Coro<void> invalid_after(double delay) {
    co_await sleep(delay);
    throw std::invalid_argument("value error");
}

// Sleeps; counts a cancellation in *count and re-raises it.
Coro<void> sleep_counting_cancel(double delay, int* count) {
    try {
        co_await sleep(delay);
    } catch (const CancelledError&) {
        ++*count;
        throw;
    }
}

// Sleeps; whether cancelled or not, raises std::domain_error afterwards
// (Python's `try: await sleep() finally: 1 / 0`).
Coro<void> crash_in_cleanup(double delay) {
    try {
        co_await sleep(delay);
    } catch (const CancelledError&) {}
    throw std::domain_error("division by zero");
}

template <class E>
std::size_t count_of(const ExceptionGroup& eg) {
    std::size_t n = 0;
    for (auto& e : eg.exceptions()) {
        try {
            std::rethrow_exception(e);
        } catch (const E&) {
            ++n;
        } catch (...) {}
    }
    return n;
}

// The only nested group of eg, or null.
const ExceptionGroup* nested_group(const ExceptionGroup& eg) {
    if (eg.exceptions().size() != 1) return nullptr;
    try {
        std::rethrow_exception(eg.exceptions()[0]);
    } catch (const ExceptionGroup& inner) {
        return &inner;  // the exception object stays alive with eg
    } catch (...) {}
    return nullptr;
}

// Awaits t and returns what it raised (null if it returned).
template <class T>
Coro<std::exception_ptr> outcome_of(Task<T> t) {
    std::exception_ptr e;
    try {
        co_await t;
    } catch (...) {
        e = std::current_exception();
    }
    co_return e;
}

bool is_cancelled(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {}
    return false;
}

// The hydra of test_taskgroup_25: each head grows two more into the group.
// (It spawns through grow_heads() because clang 16 takes a coroutine calling
// itself for infinite recursion, -Winfinite-recursion.)
void grow_heads(TaskGroup* g, int* heads);

Coro<void> hydra(TaskGroup* g, int* heads) {
    ++*heads;
    co_await sleep(0.01);
    grow_heads(g, heads);
}

void grow_heads(TaskGroup* g, int* heads) {
    g->create_task(hydra(g, heads));
    g->create_task(hydra(g, heads));
}

Coro<void> hercules(int* heads) {
    while (*heads < 10) co_await sleep(0.015);
    throw std::domain_error("division by zero");
}

Coro<void> group_of_sleepers(int n, int* cancelled) {
    co_await task_group([n, cancelled](TaskGroup& g) -> Coro<void> {
        for (int i = 0; i < n; ++i) g.create_task(sleep_counting_cancel(5, cancelled));
        co_return;
    });
}

Coro<void> group_with_sleeping_body(int n, int* cancelled) {
    co_await task_group([n, cancelled](TaskGroup& g) -> Coro<void> {
        for (int i = 0; i < n; ++i) g.create_task(sleep_counting_cancel(5, cancelled));
        try {
            co_await sleep(10);
        } catch (const CancelledError&) {
            *cancelled += 10;
            throw;
        }
    });
}

TEST_F(TaskGroupTest, WaitsForEveryChildBeforeReturning) {
    auto main = [&]() -> Coro<void> {
        Task<int> t1, t2;
        co_await task_group([&](TaskGroup& g) -> Coro<void> {
            t1 = g.create_task(value_after(0.1, 42));
            t2 = g.create_task(value_after(0.2, 11));
            co_return;
        });
        EXPECT_EQ(t1.result(), 42);
        EXPECT_EQ(t2.result(), 11);
        EXPECT_DOUBLE_EQ(loop().time(), 0.2);
    };
    run(main());
}

TEST_F(TaskGroupTest, ChildrenCanBeAddedWhileTheBodyRuns) {
    auto main = [&]() -> Coro<void> {
        Task<int> t1, t2;
        co_await task_group([&](TaskGroup& g) -> Coro<void> {
            t1 = g.create_task(value_after(0.1, 42));
            co_await sleep(0.15);
            t2 = g.create_task(value_after(0.2, 11));
        });
        EXPECT_EQ(t1.result(), 42);
        EXPECT_EQ(t2.result(), 11);
        EXPECT_DOUBLE_EQ(loop().time(), 0.35);
    };
    run(main());
}

TEST_F(TaskGroupTest, TheBodysValueIsReturnedOnceTheChildrenAreDone) {
    auto main = [&]() -> Coro<void> {
        Task<int> child;
        int v = co_await task_group([&](TaskGroup& g) -> Coro<int> {
            child = g.create_task(value_after(1, 3));
            co_return 7;
        });
        EXPECT_EQ(v, 7);
        EXPECT_TRUE(child.done());
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
    };
    run(main());
}

TEST_F(TaskGroupTest, CancellingOneChildExplicitlyDoesNotDisturbTheGroup) {
    auto main = [&]() -> Coro<void> {
        Task<int> t1, t2;
        co_await task_group([&](TaskGroup& g) -> Coro<void> {
            t1 = g.create_task(value_after(1, 42));
            co_await sleep(0.15);
            t1.cancel();
            t2 = g.create_task(value_after(0.2, 11));
        });
        EXPECT_TRUE(t1.cancelled());
        EXPECT_EQ(t2.result(), 11);
    };
    run(main());
}

TEST_F(TaskGroupTest, SizeCountsTheChildrenStillRunning) {
    // test_taskgroup_23.
    auto main = [&]() -> Coro<void> {
        co_await task_group([&](TaskGroup& g) -> Coro<void> {
            for (int count = 0; count < 10; ++count) {
                co_await sleep(0.1);
                g.create_task(nap(0.3));
                if (count == 5) {
                    EXPECT_LT(g.size(), 5u);
                }
            }
            co_await sleep(1.35);
            EXPECT_EQ(g.size(), 0u);
        });
    };
    run(main());
}

TEST_F(TaskGroupTest, AFailingChildCancelsItsSiblingsAndTheBody) {
    // test_cancel_children_on_child_error / test_taskgroup_04.
    auto main = [&]() -> Coro<void> {
        int sibling_cancelled = 0;
        bool body_cancelled = false;
        bool after_group = false;
        bool raised = false;
        try {
            co_await task_group([&](TaskGroup& g) -> Coro<void> {
                g.create_task(crash_after(0.1));
                g.create_task(crash_after(0.1));
                g.create_task(crash_after(0.1));
                g.create_task(sleep_counting_cancel(5, &sibling_cancelled));
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {
                    body_cancelled = true;
                    throw;
                }
            });
            after_group = true;
        } catch (const ExceptionGroup& eg) {
            raised = true;
            EXPECT_EQ(eg.exceptions().size(), 3u);
            EXPECT_EQ(count_of<std::domain_error>(eg), eg.exceptions().size());
        }
        EXPECT_TRUE(raised);
        EXPECT_FALSE(after_group);
        EXPECT_EQ(sibling_cancelled, 1);
        EXPECT_TRUE(body_cancelled);
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TaskGroupTest, TheExceptionGroupHoldsTheVeryObjectsThatWereThrown) {
    auto main = [&]() -> Coro<void> {
        Task<void> a, b;
        bool raised = false;
        try {
            co_await task_group([&](TaskGroup& g) -> Coro<void> {
                a = g.create_task(crash_after(0.1));
                b = g.create_task(invalid_after(0.1));
                co_return;
            });
        } catch (const ExceptionGroup& eg) {
            raised = true;
            EXPECT_EQ(eg.message(), "unhandled errors in a TaskGroup");
            CO_ASSERT(eg.exceptions().size() == 2u);
            EXPECT_EQ(eg.exceptions()[0], a.exception());
            EXPECT_EQ(eg.exceptions()[1], b.exception());
        }
        EXPECT_TRUE(raised);
    };
    run(main());
}

TEST_F(TaskGroupTest, CancellingTheParentCancelsTheChildrenAndPropagates) {
    // test_cancellation.
    auto main = [&]() -> Coro<void> {
        int cancelled = 0;
        auto r = create_task(group_of_sleepers(5, &cancelled));
        co_await sleep(0.1);
        EXPECT_FALSE(r.done());
        r.cancel("test");
        auto e = co_await outcome_of(r);
        CO_ASSERT(e);
        try {
            std::rethrow_exception(e);
        } catch (const CancelledError& c) {
            EXPECT_EQ(c.message(), "test");
        } catch (...) {
            ADD_FAILURE() << "expected CancelledError, got " << describe_exception(e);
        }
        EXPECT_TRUE(r.cancelled());
        EXPECT_EQ(cancelled, 5);
    };
    run(main());
}

TEST_F(TaskGroupTest, CancellingTheParentCancelsTheBodyToo) {
    // test_taskgroup_07 and _17.
    auto main = [&]() -> Coro<void> {
        int cancelled = 0;
        auto r = create_task(group_with_sleeping_body(5, &cancelled));
        co_await sleep(0.1);
        r.cancel();
        auto e = co_await outcome_of(r);
        EXPECT_TRUE(is_cancelled(e));
        EXPECT_EQ(cancelled, 15);

        int body_only = 0;
        auto empty = create_task(group_with_sleeping_body(0, &body_only));
        co_await sleep(0.1);
        empty.cancel();
        EXPECT_TRUE(is_cancelled(co_await outcome_of(empty)));
        EXPECT_EQ(body_only, 10);
    };
    run(main());
}

TEST_F(TaskGroupTest, ChildrenFailingWhileTheParentIsCancelledGiveAnExceptionGroup) {
    // test_taskgroup_08: the children turn their cancellation into errors.
    auto main = [&]() -> Coro<void> {
        auto runner = [](int n) -> Coro<void> {
            co_await task_group([n](TaskGroup& g) -> Coro<void> {
                for (int i = 0; i < n; ++i) g.create_task(crash_in_cleanup(10));
                co_await sleep(10);
            });
        };
        auto r = create_task(runner(5));
        co_await sleep(0.1);
        r.cancel();
        auto e = co_await outcome_of(r);
        try {
            std::rethrow_exception(e);
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(eg.exceptions().size(), 5u);
            EXPECT_EQ(count_of<std::domain_error>(eg), 5u);
        } catch (...) {
            ADD_FAILURE() << "expected an ExceptionGroup, got " << describe_exception(e);
        }
    };
    run(main());
}

TEST_F(TaskGroupTest, ABodyErrorCancelsTheChildrenAndIsRaisedInTheGroup) {
    // test_taskgroup_09 (error after a sleep) and _10 (error at once).
    auto main = [&]() -> Coro<void> {
        for (double before_error : {0.1, 0.0}) {
            SCOPED_TRACE(before_error);
            Task<int> t1, t2;
            bool raised = false;
            try {
                co_await task_group([&](TaskGroup& g) -> Coro<void> {
                    t1 = g.create_task(value_after(1, 42));
                    t2 = g.create_task(value_after(2, 11));
                    if (before_error > 0) co_await sleep(before_error);
                    throw std::domain_error("division by zero");
                });
            } catch (const ExceptionGroup& eg) {
                raised = true;
                EXPECT_EQ(eg.exceptions().size(), 1u);
                EXPECT_EQ(count_of<std::domain_error>(eg), 1u);
            }
            EXPECT_TRUE(raised);
            EXPECT_TRUE(t1.cancelled());
            EXPECT_TRUE(t2.cancelled());
        }
    };
    run(main());
}

TEST_F(TaskGroupTest, ABodyTurningItsCancellationIntoAnErrorGivesAnExceptionGroup) {
    // test_taskgroup_18.
    auto main = [&]() -> Coro<void> {
        auto runner = [](int* num) -> Coro<void> {
            co_await task_group([num](TaskGroup&) -> Coro<void> {
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {
                    *num += 10;
                    throw MyExc();
                }
            });
        };
        int num = 0;
        auto r = create_task(runner(&num));
        co_await sleep(0.1);
        r.cancel();
        auto e = co_await outcome_of(r);
        try {
            std::rethrow_exception(e);
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(eg.exceptions().size(), 1u);
            EXPECT_EQ(count_of<MyExc>(eg), 1u);
        } catch (...) {
            ADD_FAILURE() << "expected an ExceptionGroup, got " << describe_exception(e);
        }
        EXPECT_EQ(num, 10);
    };
    run(main());
}

TEST_F(TaskGroupTest, ABodyErrorRaisedWhileBeingCancelledJoinsTheChildsError) {
    // test_taskgroup_19: {MyExc, ZeroDivisionError}.
    auto main = [&]() -> Coro<void> {
        bool raised = false;
        try {
            co_await task_group([&](TaskGroup& g) -> Coro<void> {
                g.create_task(crash_after(0.1));
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {}
                throw MyExc();
            });
        } catch (const ExceptionGroup& eg) {
            raised = true;
            EXPECT_EQ(eg.exceptions().size(), 2u);
            EXPECT_EQ(count_of<MyExc>(eg), 1u);
            EXPECT_EQ(count_of<std::domain_error>(eg), 1u);
        }
        EXPECT_TRUE(raised);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TaskGroupTest, AChildFailingWhileTheParentHandlesItsCancellationWins) {
    // test_taskgroup_15: the parent is cancelled, its body takes 0.5 s to
    // clean up, a child crashes meanwhile: the group raises the crash.
    auto main = [&]() -> Coro<void> {
        auto runner = []() -> Coro<void> {
            co_await task_group([](TaskGroup& g) -> Coro<void> {
                g.create_task(crash_after(0.3));
                bool cancelled = false;
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {
                    cancelled = true;
                }
                if (cancelled) {
                    co_await sleep(0.5);
                    throw CancelledError();
                }
            });
        };
        auto r = create_task(runner());
        co_await sleep(0.1);
        EXPECT_FALSE(r.done());
        r.cancel();
        auto e = co_await outcome_of(r);
        try {
            std::rethrow_exception(e);
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(eg.exceptions().size(), 1u);
            EXPECT_EQ(count_of<std::domain_error>(eg), 1u);
        } catch (...) {
            ADD_FAILURE() << "expected an ExceptionGroup, got " << describe_exception(e);
        }
        EXPECT_DOUBLE_EQ(loop().time(), 0.3);
    };
    run(main());
}

TEST_F(TaskGroupTest, AFailingNestedGroupIsWrappedInTheOuterGroup) {
    // test_taskgroup_14.
    auto main = [&]() -> Coro<void> {
        bool raised = false;
        try {
            co_await task_group([&](TaskGroup& g1) -> Coro<void> {
                g1.create_task(invalid_after(10));
                co_await task_group([](TaskGroup& g2) -> Coro<void> {
                    g2.create_task(invalid_after(0.1));
                    co_return;
                });
            });
        } catch (const ExceptionGroup& eg) {
            raised = true;
            const ExceptionGroup* inner = nested_group(eg);
            CO_ASSERT(inner != nullptr);
            EXPECT_EQ(inner->exceptions().size(), 1u);
            EXPECT_EQ(count_of<std::invalid_argument>(*inner), 1u);
        }
        EXPECT_TRUE(raised);
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
    };
    run(main());
}

TEST_F(TaskGroupTest, AnOuterChildFailingCancelsTheNestedGroup) {
    // test_taskgroup_13: the nested group is cancelled and adds no error.
    auto main = [&]() -> Coro<void> {
        bool raised = false;
        try {
            co_await task_group([&](TaskGroup& g1) -> Coro<void> {
                g1.create_task(invalid_after(0.1));
                co_await task_group([](TaskGroup& g2) -> Coro<void> {
                    g2.create_task(invalid_after(10));
                    co_return;
                });
            });
        } catch (const ExceptionGroup& eg) {
            raised = true;
            EXPECT_EQ(eg.exceptions().size(), 1u);
            EXPECT_EQ(count_of<std::invalid_argument>(eg), 1u);
        }
        EXPECT_TRUE(raised);
        EXPECT_DOUBLE_EQ(loop().time(), 0.1);
    };
    run(main());
}

TEST_F(TaskGroupTest, CancellingAParentOfNestedGroupsWhoseChildrenFailGivesNestedGroups) {
    // test_taskgroup_11 and _12.
    auto main = [&]() -> Coro<void> {
        auto runner = [](bool outer_child) -> Coro<void> {
            co_await task_group([outer_child](TaskGroup& g1) -> Coro<void> {
                if (outer_child) g1.create_task(nap(10));
                co_await task_group([](TaskGroup& g2) -> Coro<void> {
                    for (int i = 0; i < 5; ++i) g2.create_task(crash_in_cleanup(10));
                    co_await sleep(10);
                });
            });
        };
        for (bool outer_child : {false, true}) {
            SCOPED_TRACE(outer_child);
            auto r = create_task(runner(outer_child));
            co_await sleep(0.1);
            r.cancel();
            auto e = co_await outcome_of(r);
            try {
                std::rethrow_exception(e);
            } catch (const ExceptionGroup& eg) {
                const ExceptionGroup* inner = nested_group(eg);
                CO_ASSERT(inner != nullptr);
                EXPECT_EQ(count_of<std::domain_error>(*inner), 5u);
            } catch (...) {
                ADD_FAILURE() << "expected an ExceptionGroup, got " << describe_exception(e);
            }
        }
    };
    run(main());
}

TEST_F(TaskGroupTest, ChildrenMayAddChildrenToTheirGroup) {
    // test_taskgroup_24 and _25 (the hydra).
    auto main = [&]() -> Coro<void> {
        int heads = 0;
        bool raised = false;
        try {
            co_await task_group([&](TaskGroup& g) -> Coro<void> {
                g.create_task(hydra(&g, &heads));
                g.create_task(hercules(&heads));
                co_return;
            });
        } catch (const ExceptionGroup& eg) {
            raised = true;
            EXPECT_EQ(eg.exceptions().size(), 1u);
            EXPECT_EQ(count_of<std::domain_error>(eg), 1u);
        }
        EXPECT_TRUE(raised);
        EXPECT_GE(heads, 10);
    };
    run(main());
}

TEST_F(TaskGroupTest, CreateTaskKeepsTheName) {
    auto main = [&]() -> Coro<void> {
        std::string seen;
        co_await task_group([&](TaskGroup& g) -> Coro<void> {
            auto t = g.create_task(nap(0), "yolo");
            EXPECT_EQ(t.get_name(), "yolo");
            co_await t;
            seen = t.get_name();
        });
        EXPECT_EQ(seen, "yolo");
    };
    run(main());
}

TEST_F(TaskGroupTest, CreateTaskIsRefusedWhileTheGroupShutsDown) {
    // test_taskgroup_no_create_task_after_failure.
    auto main = [&]() -> Coro<void> {
        struct Children {
            static Coro<void> refused_on_cancel(TaskGroup* g, bool* refused) {
                try {
                    co_await sleep(1);
                } catch (const CancelledError&) {
                    try {
                        g->create_task(crash_after(0.001));
                    } catch (const std::runtime_error&) {
                        *refused = true;
                    }
                }
            }
        };
        bool refused = false;
        bool raised = false;
        try {
            co_await task_group([&](TaskGroup& g) -> Coro<void> {
                g.create_task(crash_after(0.001));
                g.create_task(Children::refused_on_cancel(&g, &refused));
                co_return;
            });
        } catch (const ExceptionGroup& eg) {
            raised = true;
            EXPECT_EQ(eg.exceptions().size(), 1u);
            EXPECT_EQ(count_of<std::domain_error>(eg), 1u);
        }
        EXPECT_TRUE(raised);
        EXPECT_TRUE(refused);
    };
    run(main());
}

TEST_F(TaskGroupTest, CreateTaskIsRefusedBeforeEnterAndAfterExit) {
    // test_taskgroup_not_entered, _finished, _double_enter.
    auto main = [&]() -> Coro<void> {
        TaskGroup g;
        try {
            g.create_task(nap(0));
            ADD_FAILURE() << "create_task() before enter() did not throw";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("has not been entered"), std::string::npos) << e.what();
        }
        g.enter();
        co_await g.exit(nullptr);
        try {
            g.create_task(nap(0));
            ADD_FAILURE() << "create_task() after exit() did not throw";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("is finished"), std::string::npos) << e.what();
        }
        try {
            g.enter();
            ADD_FAILURE() << "a second enter() did not throw";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("has already been entered"), std::string::npos) << e.what();
        }
    };
    run(main());
}

TEST_F(TaskGroupTest, EnteringWithoutAParentTaskIsAnError) {
    // test_taskgroup_without_parent_task: a plain callback has no task.
    TaskGroup g;
    std::string message;
    loop().call_soon([&] {
        try {
            g.enter();
        } catch (const std::runtime_error& e) {
            message = e.what();
        }
    });
    run_briefly();
    EXPECT_NE(message.find("parent task"), std::string::npos) << message;
    EXPECT_THROW(g.create_task(nap(0)), std::runtime_error);
}

TEST_F(TaskGroupTest, TheParentsCancellingCountIsRestoredAfterAFailure) {
    // test_cancelling_level_preserved / test_cancellation_does_not_leak_out_of_tg.
    auto main = [&]() -> Coro<void> {
        bool raised = false;
        try {
            co_await task_group([](TaskGroup& g) -> Coro<void> {
                g.create_task(invalid_after(0));
                co_return;
            });
        } catch (const ExceptionGroup&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
        EXPECT_EQ(current_task().cancelling(), 0u);
        co_await sleep(0);  // no cancellation leaked out of the group
        co_await sleep(1);
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
    };
    run(main());
}

TEST_F(TaskGroupTest, NestedGroupsThatBothFailKeepTheCancellingCountRight) {
    // test_nested_groups_both_cancelled.
    auto main = [&]() -> Coro<void> {
        bool inner_raised = false;
        std::uint32_t cancelling_inside = 99;
        bool outer_raised = false;
        try {
            co_await task_group([&](TaskGroup& outer) -> Coro<void> {
                try {
                    co_await task_group([&](TaskGroup& inner) -> Coro<void> {
                        inner.create_task(crash_after(0));
                        outer.create_task(invalid_after(0));
                        co_return;
                    });
                } catch (const ExceptionGroup& eg) {
                    inner_raised = count_of<std::domain_error>(eg) == 1;
                }
                cancelling_inside = current_task().cancelling();
            });
        } catch (const ExceptionGroup& eg) {
            outer_raised = count_of<std::invalid_argument>(eg) == 1;
        }
        EXPECT_TRUE(inner_raised);
        EXPECT_EQ(cancelling_inside, 1u);
        EXPECT_TRUE(outer_raised);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TaskGroupTest, AnOutsideCancelDuringAFailureStaysPendingAfterTheGroup) {
    // test_error_and_cancel.
    auto main = [&]() -> Coro<void> {
        struct Inner {
            static Coro<void> raise_error(Future<void> event) {
                event.set_result();
                co_await sleep(0);
                throw std::runtime_error("error");
            }
            static Coro<void> run(Future<void> event, std::uint32_t* in_handler, std::uint32_t* after,
                                  bool* slept_after) {
                // GCC 12.2: a lambda with a non-trivial capture (the Future), passed as a
                // temporary to a coroutine inside co_await, is destroyed twice: name it first.
                auto body = [event](TaskGroup& tg) -> Coro<void> {
                    tg.create_task(raise_error(event));
                    co_await sleep(1);
                    ADD_FAILURE() << "the sleep in the group should have been cancelled";
                };
                try {
                    co_await task_group(std::move(body));
                } catch (const ExceptionGroup&) {
                    *in_handler = current_task().cancelling();
                }
                *after = current_task().cancelling();
                co_await sleep(1);
                *slept_after = true;
            }
        };
        auto event = loop().create_future<void>();
        std::uint32_t in_handler = 99, after = 99;
        bool slept_after = false;
        auto t = create_task(Inner::run(event, &in_handler, &after, &slept_after));
        co_await event;
        EXPECT_EQ(t.cancelling(), 0u);
        t.cancel();
        EXPECT_EQ(t.cancelling(), 1u);
        EXPECT_TRUE(is_cancelled(co_await outcome_of(t)));
        EXPECT_TRUE(t.cancelled());
        EXPECT_EQ(in_handler, 1u);
        EXPECT_EQ(after, 1u);
        EXPECT_FALSE(slept_after);
    };
    run(main());
}

TEST_F(TaskGroupTest, AChildCreatedByAChildIsCancelledWhenTheGroupAborts) {
    // gh-128550: a task created while another child is being set up.
    auto main = [&]() -> Coro<void> {
        struct Children {
            static Coro<void> third() {
                throw MyExc();
                co_return;
            }
            static Coro<void> second(TaskGroup* tg, bool* ran) {
                tg->create_task(third());
                bool cancelled = false;
                try {
                    co_await sleep(0);
                    co_await sleep(0);
                } catch (const CancelledError&) {
                    cancelled = true;
                }
                EXPECT_TRUE(cancelled);
                *ran = true;
            }
        };
        bool ran = false;
        bool raised = false;
        try {
            co_await task_group([&](TaskGroup& tg) -> Coro<void> {
                tg.create_task(Children::second(&tg, &ran));
                co_return;
            });
        } catch (const ExceptionGroup& eg) {
            raised = count_of<MyExc>(eg) == 1 && eg.exceptions().size() == 1;
        }
        EXPECT_TRUE(raised);
        EXPECT_TRUE(ran);
    };
    run(main());
}

TEST_F(TaskGroupTest, CancelStopsTheChildrenAndTheBodyWithoutRaising) {
    auto main = [&]() -> Coro<void> {
        int cancelled = 0;
        bool body_cancelled = false;
        bool after_cancel = false;
        co_await task_group([&](TaskGroup& g) -> Coro<void> {
            g.create_task(sleep_counting_cancel(10, &cancelled));
            g.create_task(sleep_counting_cancel(10, &cancelled));
            co_await sleep(1);
            g.cancel();
            g.cancel();  // idempotent
            try {
                co_await sleep(10);
                after_cancel = true;
            } catch (const CancelledError&) {
                body_cancelled = true;
                throw;
            }
        });
        EXPECT_EQ(cancelled, 2);
        EXPECT_TRUE(body_cancelled);
        EXPECT_FALSE(after_cancel);
        EXPECT_DOUBLE_EQ(loop().time(), 1.0);
        EXPECT_EQ(current_task().cancelling(), 0u);
        co_await sleep(1);  // nothing leaked
    };
    run(main());
}

TEST_F(TaskGroupTest, CancelFromAChildStopsTheGroupQuietly) {
    auto main = [&]() -> Coro<void> {
        struct Children {
            static Coro<void> canceller(TaskGroup* g) {
                co_await sleep(0.5);
                g->cancel();
            }
        };
        int cancelled = 0;
        co_await task_group([&](TaskGroup& g) -> Coro<void> {
            g.create_task(Children::canceller(&g));
            g.create_task(sleep_counting_cancel(10, &cancelled));
            co_await sleep_counting_cancel(10, &cancelled);
        });
        EXPECT_EQ(cancelled, 2);
        EXPECT_DOUBLE_EQ(loop().time(), 0.5);
        EXPECT_EQ(current_task().cancelling(), 0u);
    };
    run(main());
}

TEST_F(TaskGroupTest, AnOutsideCancelStillPropagatesAfterTheGroupCancelledItself) {
    // The group's own cancel() is withdrawn on exit; another one is not.
    auto main = [&]() -> Coro<void> {
        struct Runner {
            static Coro<void> run(bool* reached_end) {
                co_await task_group([](TaskGroup& g) -> Coro<void> {
                    g.create_task(nap(10));
                    co_await sleep(1);
                    g.cancel();
                    current_task().cancel();  // as if from outside
                    co_await sleep(10);
                });
                *reached_end = true;
            }
        };
        bool reached_end = false;
        auto t = create_task(Runner::run(&reached_end));
        EXPECT_TRUE(is_cancelled(co_await outcome_of(t)));
        EXPECT_TRUE(t.cancelled());
        EXPECT_FALSE(reached_end);
    };
    run(main());
}

}  // namespace

}  // namespace task_task_group_test
