// Runs a fuzz target over files and directories of inputs, without libFuzzer:
// how builds other than the fuzz preset (g++, the ASan and TSan legs) replay
// the committed corpus. Arguments starting with '-' (libFuzzer's flags, such
// as -runs=0) are ignored, so one command line serves both builds.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int replay(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
        return 1;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int failures = 0;
    std::size_t inputs = 0;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.starts_with("-")) continue;
        std::filesystem::path p(arg);
        if (std::filesystem::is_directory(p)) {
            std::vector<std::filesystem::path> files;
            for (auto& e : std::filesystem::recursive_directory_iterator(p))
                if (e.is_regular_file()) files.push_back(e.path());
            std::sort(files.begin(), files.end());
            for (auto& f : files) failures += replay(f), ++inputs;
        } else {
            failures += replay(p), ++inputs;
        }
    }
    // An empty corpus would make this check pass without checking anything.
    if (inputs == 0) {
        std::fprintf(stderr, "replay: no inputs given\n");
        return 1;
    }
    std::printf("replay: %zu inputs\n", inputs);
    return failures == 0 ? 0 : 1;
}
