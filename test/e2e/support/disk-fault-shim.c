/*
 * An LD_PRELOAD shim that makes the disk fail for one raftkv process, for the
 * end-to-end disk-fault tests (disk-faults.ts builds and drives it).
 *
 * It wraps the libc calls that write and fsync files: write, pwrite and
 * their vectored forms (Node's fs), fwrite (LevelDB writes through stdio,
 * whose own write calls inside libc no shim can see), fsync and fdatasync. A call on a file whose
 * path starts with $RAFTKV_DISK_FAULT_UNDER fails while a switch file exists
 * in the directory $RAFTKV_DISK_FAULT_SWITCHES:
 *
 *   fsync-eio     fsync and fdatasync fail with EIO, as a dying disk makes them;
 *                 so do writes to a file opened with O_DSYNC or O_SYNC (each
 *                 such write is its own sync, and the kernel reports a failed
 *                 sync part of it as the write's EIO). The shim fails them
 *                 before any byte is written, one of the states a failed
 *                 sync may leave.
 *   write-enospc  writes fail with ENOSPC, as on a full file system; a write of
 *                 more than one byte first writes half of its bytes and reports
 *                 that short count, so the file ends in a torn record, as when
 *                 space runs out in the middle of a write.
 *
 * Switches are files so that a test flips them while the process runs,
 * without signals. Every other call, and every call while no switch exists,
 * goes to libc unchanged (one access() per call is the whole cost).
 * Node must run with UV_USE_IO_URING=0, so that libuv calls these functions
 * instead of submitting to io_uring.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int switch_on(const char *name) {
  const char *switches = getenv("RAFTKV_DISK_FAULT_SWITCHES");
  if (switches == NULL) return 0;
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", switches, name) >= (int)sizeof path) return 0;
  return access(path, F_OK) == 0;
}

static int under_fault_directory(int fd) {
  const char *under = getenv("RAFTKV_DISK_FAULT_UNDER");
  if (under == NULL || under[0] == '\0') return 0;
  char link[64];
  char target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t length = readlink(link, target, sizeof target - 1);
  if (length < 0) return 0;
  target[length] = '\0';
  return strncmp(target, under, strlen(under)) == 0;
}

/* 1 when the call on fd must fail because of switch `name`. */
static int faulty(int fd, const char *name) { return switch_on(name) && under_fault_directory(fd); }

/* 1 when a write to fd syncs too (O_SYNC includes O_DSYNC's bit on Linux; both are named for clarity). */
static int syncs_on_write(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags != -1 && (flags & (O_DSYNC | O_SYNC)) != 0;
}

/* 1 when a write to fd must fail with EIO: its sync part fails, as fsync does, while fsync-eio is on. */
static int sync_of_write_fails(int fd) { return faulty(fd, "fsync-eio") && syncs_on_write(fd); }

#define REAL(name, type) static type real_##name; if (real_##name == NULL) real_##name = (type)dlsym(RTLD_NEXT, #name)

typedef int (*sync_fn)(int);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef size_t (*fwrite_fn)(const void *, size_t, size_t, FILE *);

int fsync(int fd) {
  REAL(fsync, sync_fn);
  if (faulty(fd, "fsync-eio")) { errno = EIO; return -1; }
  return real_fsync(fd);
}

int fdatasync(int fd) {
  REAL(fdatasync, sync_fn);
  if (faulty(fd, "fsync-eio")) { errno = EIO; return -1; }
  return real_fdatasync(fd);
}

ssize_t write(int fd, const void *buffer, size_t count) {
  REAL(write, write_fn);
  if (sync_of_write_fails(fd)) { errno = EIO; return -1; }
  if (count > 0 && faulty(fd, "write-enospc")) {
    if (count == 1) { errno = ENOSPC; return -1; }
    return real_write(fd, buffer, count / 2);
  }
  return real_write(fd, buffer, count);
}

static ssize_t faulty_pwrite(pwrite_fn real, int fd, const void *buffer, size_t count, off_t offset) {
  if (sync_of_write_fails(fd)) { errno = EIO; return -1; }
  if (count > 0 && faulty(fd, "write-enospc")) {
    if (count == 1) { errno = ENOSPC; return -1; }
    return real(fd, buffer, count / 2, offset);
  }
  return real(fd, buffer, count, offset);
}

ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset) {
  REAL(pwrite, pwrite_fn);
  return faulty_pwrite(real_pwrite, fd, buffer, count, offset);
}

ssize_t pwrite64(int fd, const void *buffer, size_t count, off_t offset) {
  REAL(pwrite64, pwrite_fn);
  return faulty_pwrite(real_pwrite64, fd, buffer, count, offset);
}

/* Vectored writes: on a full disk, fail outright (simpler than cutting vectors; raftkv's own writes are not vectored). */
ssize_t writev(int fd, const struct iovec *vectors, int count) {
  REAL(writev, writev_fn);
  if (sync_of_write_fails(fd)) { errno = EIO; return -1; }
  if (faulty(fd, "write-enospc")) { errno = ENOSPC; return -1; }
  return real_writev(fd, vectors, count);
}

ssize_t pwritev(int fd, const struct iovec *vectors, int count, off_t offset) {
  REAL(pwritev, pwritev_fn);
  if (sync_of_write_fails(fd)) { errno = EIO; return -1; }
  if (faulty(fd, "write-enospc")) { errno = ENOSPC; return -1; }
  return real_pwritev(fd, vectors, count, offset);
}

ssize_t pwritev64(int fd, const struct iovec *vectors, int count, off_t offset) {
  REAL(pwritev64, pwritev_fn);
  if (sync_of_write_fails(fd)) { errno = EIO; return -1; }
  if (faulty(fd, "write-enospc")) { errno = ENOSPC; return -1; }
  return real_pwritev64(fd, vectors, count, offset);
}

/* stdio: on a full disk, half of the items reach the stream, then ENOSPC (fwrite's short count). */
static size_t faulty_fwrite(fwrite_fn real, const void *buffer, size_t size, size_t count, FILE *stream) {
  if (size > 0 && count > 0 && faulty(fileno(stream), "write-enospc")) {
    size_t written = count > 1 ? real(buffer, size, count / 2, stream) : 0;
    errno = ENOSPC;
    return written;
  }
  return real(buffer, size, count, stream);
}

size_t fwrite(const void *buffer, size_t size, size_t count, FILE *stream) {
  REAL(fwrite, fwrite_fn);
  return faulty_fwrite(real_fwrite, buffer, size, count, stream);
}

/* glibc's headers make fwrite_unlocked a macro when optimizing; the shim needs the function. */
#undef fwrite_unlocked
size_t fwrite_unlocked(const void *buffer, size_t size, size_t count, FILE *stream) {
  REAL(fwrite_unlocked, fwrite_fn);
  return faulty_fwrite(real_fwrite_unlocked, buffer, size, count, stream);
}
