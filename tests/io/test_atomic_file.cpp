// Atomic writes: the file appears whole or not at all, no temporary is left behind, an
// existing file is replaced (never modified in place), and pending temporaries can be
// removed from a signal handler.
#include <gtest/gtest.h>

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/io/atomic_file.h"
#include "src/io/image_io.h"
#include "util/test_images.h"

namespace bd {
namespace {
using test::TempDir;

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

TEST(AtomicFile, WritesAndLeavesNoTemporary) {
    TempDir dir;
    write_file_atomically(dir.file("a.bin"), bytes_of("hello"));
    EXPECT_EQ(test::read_bytes(dir.file("a.bin")), bytes_of("hello"));
    EXPECT_EQ(dir.list(), std::vector<std::string>{"a.bin"});
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("a.bin").c_str(), &st), 0);
    mode_t mask = ::umask(0);
    ::umask(mask);
    EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask) << "temporary's 0600 mode leaked to the output";
}

TEST(AtomicFile, ReplacesExistingFileWithoutTouchingItsInode) {
    TempDir dir;
    test::write_bytes(dir.file("out.png"), bytes_of("old contents"));
    // A hard link sees the old inode: if we wrote in place it would change too.
    ASSERT_EQ(::link(dir.file("out.png").c_str(), dir.file("link.png").c_str()), 0);
    write_file_atomically(dir.file("out.png"), bytes_of("new"));
    EXPECT_EQ(test::read_bytes(dir.file("out.png")), bytes_of("new"));
    EXPECT_EQ(test::read_bytes(dir.file("link.png")), bytes_of("old contents"));
    EXPECT_EQ(dir.list(), (std::vector<std::string>{"link.png", "out.png"}));
}

TEST(AtomicFile, FailedRenameLeavesNothingBehind) {
    TempDir dir;
    ASSERT_EQ(::mkdir(dir.file("taken").c_str(), 0755), 0);  // rename onto a directory fails
    try {
        write_file_atomically(dir.file("taken"), bytes_of("data"));
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind(dir.file("taken") + ": ", 0), 0u) << e.what();
    }
    EXPECT_EQ(dir.list(), std::vector<std::string>{"taken"});
}

TEST(AtomicFile, MissingFolderIsAnErrorNamingThePath) {
    TempDir dir;
    try {
        write_file_atomically(dir.file("no/such/x.png"), bytes_of("data"));
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind(dir.file("no/such/x.png") + ": ", 0), 0u) << e.what();
    }
    EXPECT_TRUE(dir.list().empty());
}

TEST(AtomicFile, WriteImageEncodingFailureCreatesNothing) {
    TempDir dir;
    Image bad = test::make_gradient(4, 4, 3);
    bad.bits = 12;
    EXPECT_THROW(write_image(dir.file("x.png"), bad), ImageError);
    EXPECT_TRUE(dir.list().empty());
}

// The child writes more than RLIMIT_FSIZE allows; SIGXFSZ arrives while its temporary is
// pending and the handler must remove it (the same path the CLI's SIGINT handler takes).
void on_xfsz(int) {
    remove_pending_temporaries();
    ::_exit(42);
}

TEST(AtomicFile, SignalHandlerRemovesPendingTemporary) {
    TempDir dir;
    const std::string target = dir.file("big.bin");
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::signal(SIGXFSZ, on_xfsz);
        struct rlimit lim {4096, 4096};
        ::setrlimit(RLIMIT_FSIZE, &lim);
        try {
            write_file_atomically(target, std::vector<uint8_t>(1 << 20, 7));
        } catch (...) {
            ::_exit(3);  // the write failed without the signal: not what this test is about
        }
        ::_exit(4);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 42);
    EXPECT_TRUE(dir.list().empty()) << "left: " << (dir.list().empty() ? "" : dir.list()[0]);
}

TEST(AtomicFile, RemovePendingLeavesFinishedFilesAlone) {
    TempDir dir;
    write_file_atomically(dir.file("done.bin"), bytes_of("x"));
    remove_pending_temporaries();
    EXPECT_EQ(dir.list(), std::vector<std::string>{"done.bin"});
}

TEST(ReadFile, ErrorsNameTheFile) {
    TempDir dir;
    try {
        read_file(dir.file("missing"));
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind(dir.file("missing") + ": cannot open", 0), 0u);
    }
    test::write_bytes(dir.file("ten"), bytes_of("0123456789"));
    EXPECT_EQ(read_file(dir.file("ten")).size(), 10u);
    EXPECT_THROW(read_file(dir.file("ten"), 9), std::runtime_error);
    EXPECT_THROW(read_file(dir.path()), std::runtime_error);  // a folder
}

}  // namespace
}  // namespace bd
