// The rule by which a launcher judges a silent peer (job/peer_watch.hpp), as a table: silence is
// reported and waited out while the connection is up; a closed connection or a silence past the
// patience is a loss, reported once.
#include "job/peer_watch.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace spark_slurm {
namespace {

using namespace std::chrono_literals;
using Change = PeerWatch::Change;

struct Step {
    bool closed;
    std::chrono::seconds quiet;
    Change expected;
};

void run_table(const std::vector<Step>& steps) {
    PeerWatch watch(15s, 60s);
    for (std::size_t i = 0; i < steps.size(); ++i) {
        EXPECT_EQ(watch.update(steps[i].closed, steps[i].quiet), steps[i].expected)
            << "step " << i << " (closed " << steps[i].closed << ", quiet "
            << steps[i].quiet.count() << " s)";
    }
}

TEST(PeerWatch, HeartbeatsOnTimeChangeNothing) {
    run_table({{false, 0s, Change::None}, {false, 1s, Change::None}, {false, 15s, Change::None}});
}

// A stopped process (SIGSTOP for 30 s): reported once, waited for, and back.
TEST(PeerWatch, AFrozenPeerIsReportedWaitedForAndBack) {
    run_table({{false, 16s, Change::WentSilent},
               {false, 30s, Change::None},
               {false, 45s, Change::None},
               {false, 0s, Change::CameBack},
               {false, 1s, Change::None},
               {false, 20s, Change::WentSilent}});
}

// A 60 s controller stall used to cost the job its workers at 15 s: now only past the patience.
TEST(PeerWatch, SilencePastThePatienceIsALossReportedOnce) {
    run_table({{false, 16s, Change::WentSilent},
               {false, 60s, Change::None},
               {false, 61s, Change::Lost},
               {false, 0s, Change::None},
               {true, 0s, Change::None}});
}

// Evidence needs no waiting: the process exited, or keepalive gave up on its node.
TEST(PeerWatch, AClosedConnectionIsALossAtOnceSilentOrNot) {
    run_table({{true, 0s, Change::Lost}});
    run_table({{false, 20s, Change::WentSilent}, {true, 20s, Change::Lost}});
}

}  // namespace
}  // namespace spark_slurm
