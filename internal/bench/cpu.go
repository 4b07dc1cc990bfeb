package bench

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// selfCPUTime is the CPU time the bench process itself has used so far:
// the senders and the in-process stand-in.
func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineTicks reads the first line of /proc/stat: the whole machine's busy
// and total CPU ticks since boot; zeros when unreadable.
func machineTicks() (busy, total uint64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0
	}
	for i, f := range fields[1:] {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0
		}
		total += n
		if i != 3 && i != 4 { // idle and iowait
			busy += n
		}
	}
	return busy, total
}

// machinePct is how busy the machine was between two machineTicks
// readings, in % of one core (200 is two cores busy).
func machinePct(busy0, total0, busy1, total1 uint64) float64 {
	if total1 <= total0 {
		return 0
	}
	return 100 * float64(runtime.NumCPU()) * float64(busy1-busy0) / float64(total1-total0)
}

// redisCPUTime is the CPU time Redis reports it has used (INFO cpu);
// 0 when it cannot be read.
func redisCPUTime(ctx context.Context, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	var secs float64
	for line := range strings.SplitSeq(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				secs += f
			}
		}
	}
	return time.Duration(secs * float64(time.Second))
}
