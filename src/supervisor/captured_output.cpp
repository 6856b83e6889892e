// What a short command printed, and the last lines of a log: run_captured, last_lines and
// tail_of_file of process.hpp.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/errors.hpp"
#include "supervisor/pipe.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {

namespace {

// What is still in the pipe once the command is done: what it wrote between the last read and
// its exit would otherwise be lost. Bounded by `limit`, like the rest.
void drain(int fd, std::string& output, std::size_t limit) {
    char chunk[4096];
    while (true) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        const std::size_t room = limit - std::min(limit, output.size());
        output.append(chunk, std::min(static_cast<std::size_t>(n), room));
    }
}

constexpr std::streamoff kTailBytes = 64 * 1024;

std::string last_lines_of(std::istream& input, std::size_t lines) {
    std::deque<std::string> last;
    std::string line;
    while (std::getline(input, line)) {
        last.push_back(line);
        if (last.size() > lines) last.pop_front();
    }
    std::string text;
    for (const auto& kept : last) text += "    " + kept + "\n";
    return text;
}

}  // namespace

CapturedRun run_captured(const SpawnRequest& request, const std::string& label,
                         std::chrono::milliseconds timeout, std::size_t limit,
                         const std::function<bool()>& give_up) {
    auto [output, output_writer] = close_on_exec_pipe(label);
    SpawnRequest captured = request;
    captured.output_fd = output_writer.get();
    captured.output_file.clear();
    std::optional<Process> process = Process::spawn(captured, label);
    output_writer.reset();
    ::fcntl(output.get(), F_SETFL, O_NONBLOCK);
    CapturedRun result;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char chunk[4096];
    bool given_up = false;
    while (std::chrono::steady_clock::now() < deadline) {
        if (give_up && give_up()) {
            given_up = true;
            break;
        }
        pollfd readable{output.get(), POLLIN, 0};
        ::poll(&readable, 1, 50);
        ssize_t n = ::read(output.get(), chunk, sizeof chunk);
        if (n > 0) {
            const std::size_t room = limit - std::min(limit, result.output.size());
            result.output.append(chunk, std::min(static_cast<std::size_t>(n), room));
            continue;
        }
        reap_children();
        // EOF, or the command is done and what it wrote has been read (a descendant it left
        // behind may still hold the pipe).
        if (n == 0 || process->exited()) break;
    }
    if (!given_up) drain(output.get(), result.output, limit);
    output.reset();
    // EOF comes when the command closes its output, a moment before it can be reaped.
    while (!given_up && !process->exited() && std::chrono::steady_clock::now() < deadline) {
        reap_children();
        if (!process->exited()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    result.status = process->exit_status();
    return result;  // the Process's destructor kills what is left of it
}

std::string last_lines(const std::string& text, std::size_t lines) {
    std::istringstream input(text);
    return last_lines_of(input, lines);
}

std::string tail_of_file(const std::string& path, std::size_t lines) {
    // From the end, at most kTailBytes: a daemon's log can be gigabytes, and this runs in the
    // leader's loop. A first line cut by the bound is dropped.
    std::ifstream file(path, std::ios::binary);
    if (!file) return {};
    file.seekg(0, std::ios::end);
    const std::streamoff size = file.tellg();
    const std::streamoff start = size > kTailBytes ? size - kTailBytes : 0;
    file.seekg(start);
    std::string text(static_cast<std::size_t>(size - start), '\0');
    file.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(file.gcount()));
    if (start > 0) {
        const auto newline = text.find('\n');
        text.erase(0, newline == std::string::npos ? text.size() : newline + 1);
    }
    return last_lines(text, lines);
}

}  // namespace spark_slurm
