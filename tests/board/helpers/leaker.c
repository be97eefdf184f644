/* leaker: a process with a heap leak, for the board scenarios.
 *   leaker KB MS [MAX_KB]   grow the heap KB kB every MS ms, up to MAX_KB
 *                           (0: no cap), touching every page
 * The heap is grown with the brk system call itself: musl's malloc takes
 * large blocks with mmap, which would leave [heap] (what memdog's `heap`
 * field measures) flat, and musl's sbrk/brk refuse to move the break. The
 * pages are written, so they count in VmRSS and RssAnon. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long kb = argc > 1 ? atol(argv[1]) : 256;
	long ms = argc > 2 ? atol(argv[2]) : 1000;
	long max = argc > 3 ? atol(argv[3]) : 0;
	long total = 0;
	char *end = (char *)syscall(SYS_brk, 0);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	for (;;) {
		if (max == 0 || total + kb <= max) {
			char *want = end + kb * 1024;
			if ((char *)syscall(SYS_brk, want) != want)
				return 1;
			memset(end, 0x5a, (size_t)kb * 1024);
			end = want;
			total += kb;
		}
		nanosleep(&ts, NULL);
	}
}
