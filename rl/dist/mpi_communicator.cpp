// rl/dist/mpi_communicator.cpp — MPI collectives with a deadline and a heartbeat that names the
// ranks that did not arrive.
#include "rl/dist/mpi_communicator.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <stdexcept>
#include <thread>
#include <vector>

namespace stampede::rl::dist {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kHeartbeatTag = 7001;
// MPI counts are int: larger buffers go in pieces of this many elements
constexpr std::size_t kMaxCount = std::size_t{1} << 30;

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw std::runtime_error(std::string(what) + " failed: " + std::string(msg, len));
}

}  // namespace

struct MpiCommunicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;     // collectives
  MPI_Comm hb_comm = MPI_COMM_NULL;  // heartbeats (a duplicate, so they never match a collective)
  bool own_init = false;
  int rank = 0, size = 1;
  double timeout_s = 120;
  std::string failure_note;
  int64_t seq = 0;  // collectives started by this rank
  // heartbeat: the peers this rank watches (rank 0: all others; others: rank 0), the last
  // sequence number each reported, and one posted receive per peer
  std::vector<int> peers;
  std::vector<int64_t> last_seen, recv_buf;
  std::vector<Clock::time_point> last_heard;  // when each watched peer last sent anything
  std::vector<MPI_Request> recv_req;
  // heartbeats sent and not yet completed (the buffer must live until then)
  std::deque<std::pair<MPI_Request, std::unique_ptr<int64_t>>> sends;

  void post_recv(std::size_t k) {
    check(MPI_Irecv(&recv_buf[k], 1, MPI_INT64_T, peers[k], kHeartbeatTag, hb_comm, &recv_req[k]), "MPI_Irecv");
  }

  // take in every heartbeat that has arrived; retire completed sends
  void drain() {
    for (std::size_t k = 0; k < peers.size(); ++k) {
      for (;;) {
        int done = 0;
        MPI_Test(&recv_req[k], &done, MPI_STATUS_IGNORE);
        if (!done) break;
        last_seen[k] = std::max(last_seen[k], recv_buf[k]);
        last_heard[k] = Clock::now();
        post_recv(k);
      }
    }
    while (!sends.empty()) {
      int done = 0;
      MPI_Test(&sends.front().first, &done, MPI_STATUS_IGNORE);
      if (!done) break;
      sends.pop_front();
    }
  }

  // tell the watching ranks that this rank reached collective number seq
  void heartbeat() {
    ++seq;
    pulse();
  }

  // tell them again that this rank is in collective seq (sent while it waits)
  void pulse() {
    for (int p : peers) {
      auto buf = std::make_unique<int64_t>(seq);
      MPI_Request req;
      check(MPI_Isend(buf.get(), 1, MPI_INT64_T, p, kHeartbeatTag, hb_comm, &req), "MPI_Isend");
      sends.emplace_back(req, std::move(buf));
    }
  }

  // seconds between the pulses of a waiting rank, and the silence after which a rank that
  // reached the collective counts as hung inside it
  double pulse_interval() const { return std::min(1.0, timeout_s / 6); }

  // the ranks this rank knows did not reach the current collective, and those that reached it
  // and then fell silent (stopped or stuck inside it)
  std::string missing_ranks() {
    drain();
    std::string absent, silent;
    const auto now = Clock::now();
    for (std::size_t k = 0; k < peers.size(); ++k) {
      const std::string r = std::to_string(peers[k]);
      if (last_seen[k] < seq)
        absent += (absent.empty() ? "" : ", ") + r;
      else if (std::chrono::duration<double>(now - last_heard[k]).count() > 3 * pulse_interval())
        silent += (silent.empty() ? "" : ", ") + r;
    }
    std::string s;
    if (!absent.empty()) s = "rank(s) " + absent + " did not arrive";
    if (!silent.empty()) s += (s.empty() ? "" : "; ") + ("rank(s) " + silent + " arrived and then stopped responding");
    return s;
  }

  [[noreturn]] void abort(const std::string& why, int code) {
    std::fprintf(stderr, "stampede: rank %d of %d: %s%s%s\n", rank, size, why.c_str(),
                 failure_note.empty() ? "" : "; ", failure_note.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; if it ever does, do not linger
  }

  // poll req until it completes; past the deadline, name the missing ranks and end the job
  void wait(MPI_Request& req, const char* what, std::size_t count) {
    const auto t0 = Clock::now();
    double next_pulse = pulse_interval();
    for (;;) {
      int done = 0;
      check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), what);
      if (done) return;
      drain();
      const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
      if (waited > next_pulse) {
        pulse();
        next_pulse = waited + pulse_interval();
      }
      if (waited > timeout_s) {
        const std::string missing = missing_ranks();
        std::string msg = std::string(what) + " #" + std::to_string(seq) + " (" + std::to_string(count) +
                          " elements) did not complete within " + std::to_string(static_cast<int>(timeout_s)) +
                          " s; ";
        if (!missing.empty())
          msg += missing + " (dead or hung)";
        else if (rank == 0)
          msg += "every rank arrived but the collective did not finish (network failure?)";
        else
          msg += "rank 0 arrived; the missing rank(s) are named in rank 0's message";
        abort(msg + "; ending the job", 3);
      }
      // MPI_Test is what moves a non-blocking collective on (one step of its schedule per call),
      // so poll hot while the other ranks are likely inside it too, yielding the core to any
      // thread that wants it; a rank that has waited long (the others are still computing) naps
      // between polls so it does not take a core from them
      if (waited > 0.02)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      else
        std::this_thread::yield();
    }
  }

  template <class T>
  void allreduce(T* data, std::size_t n, MPI_Datatype type) {
    for (std::size_t off = 0; off < n; off += kMaxCount) {
      const int count = static_cast<int>(std::min(kMaxCount, n - off));
      heartbeat();
      MPI_Request req;
      check(MPI_Iallreduce(MPI_IN_PLACE, data + off, count, type, MPI_SUM, comm, &req), "MPI_Iallreduce");
      wait(req, "all-reduce", static_cast<std::size_t>(count));
    }
  }
};

MpiCommunicator::MpiCommunicator(double timeout_s, std::string failure_note) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    m.own_init = true;
  }
  // errors come back as codes (and become exceptions) instead of aborting inside MPI
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_dup(MPI_COMM_WORLD, &m.comm), "MPI_Comm_dup");
  check(MPI_Comm_dup(MPI_COMM_WORLD, &m.hb_comm), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(m.comm, MPI_ERRORS_RETURN);
  MPI_Comm_set_errhandler(m.hb_comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(m.comm, &m.rank);
  MPI_Comm_size(m.comm, &m.size);
  m.timeout_s = timeout_s;
  m.failure_note = std::move(failure_note);
  if (m.rank == 0)
    for (int p = 1; p < m.size; ++p) m.peers.push_back(p);
  else
    m.peers.push_back(0);
  m.last_seen.assign(m.peers.size(), 0);
  m.last_heard.assign(m.peers.size(), Clock::now());
  m.recv_buf.assign(m.peers.size(), 0);
  m.recv_req.assign(m.peers.size(), MPI_REQUEST_NULL);
  for (std::size_t k = 0; k < m.peers.size(); ++k) m.post_recv(k);
}

MpiCommunicator::~MpiCommunicator() {
  auto& m = *impl_;
  // retire the heartbeat receives still posted, and the sends (their peers may have finished)
  for (auto& r : m.recv_req) {
    MPI_Cancel(&r);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
  }
  const auto t0 = Clock::now();
  while (!m.sends.empty() && std::chrono::duration<double>(Clock::now() - t0).count() < 5.0) m.drain();
  for (auto& s : m.sends) MPI_Request_free(&s.first);
  m.sends.clear();
  MPI_Comm_free(&m.hb_comm);
  MPI_Comm_free(&m.comm);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (m.own_init && !finalized) MPI_Finalize();
}

int MpiCommunicator::rank() const { return impl_->rank; }
int MpiCommunicator::size() const { return impl_->size; }
double MpiCommunicator::timeout() const { return impl_->timeout_s; }
void MpiCommunicator::set_timeout(double seconds) { impl_->timeout_s = seconds; }
void MpiCommunicator::set_failure_note(std::string note) { impl_->failure_note = std::move(note); }
void MpiCommunicator::abort(const std::string& why, int code) { impl_->abort(why, code); }

void MpiCommunicator::allreduce_sum(float* data, std::size_t n) { impl_->allreduce(data, n, MPI_FLOAT); }
void MpiCommunicator::allreduce_sum(double* data, std::size_t n) { impl_->allreduce(data, n, MPI_DOUBLE); }

void MpiCommunicator::broadcast(void* data, std::size_t bytes, int root) {
  auto* p = static_cast<char*>(data);
  for (std::size_t off = 0; off < bytes || (bytes == 0 && off == 0); off += kMaxCount) {
    const int count = static_cast<int>(std::min(kMaxCount, bytes - off));
    impl_->heartbeat();
    MPI_Request req;
    check(MPI_Ibcast(p + off, count, MPI_BYTE, root, impl_->comm, &req), "MPI_Ibcast");
    impl_->wait(req, "broadcast", static_cast<std::size_t>(count));
    if (bytes == 0) break;
  }
}

void MpiCommunicator::barrier() {
  impl_->heartbeat();
  MPI_Request req;
  check(MPI_Ibarrier(impl_->comm, &req), "MPI_Ibarrier");
  impl_->wait(req, "barrier", 0);
}

}  // namespace stampede::rl::dist
