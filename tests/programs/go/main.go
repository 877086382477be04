// A Go program for the compatibility tests: the Go runtime (its threads, futexes, signals for
// preemption, vDSO clock lookup by symbol version), goroutines, channels and timers, os/exec
// (clone with CLONE_VFORK, then exec and wait), and with "serve PORT" an HTTP server.
package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"sync"
	"time"
)

func main() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			s := 0
			for j := 0; j < 200000; j++ {
				s += j % (n + 1)
			}
			mu.Lock()
			total += s
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	fmt.Println("goroutines done, total", total)
	ch := make(chan int)
	go func() { time.Sleep(20 * time.Millisecond); ch <- 42 }()
	start := time.Now()
	fmt.Println("channel", <-ch, "after >= 15ms:", time.Since(start) >= 15*time.Millisecond)
	out, err := exec.Command("/bin/busybox", "echo", "from a child").Output()
	fmt.Printf("exec: %q %v\n", out, err)
	err = exec.Command("/bin/busybox", "false").Run()
	fmt.Println("exec false:", err)
	keys := []string{"b", "c", "a"}
	sort.Strings(keys)
	fmt.Println(keys)
	if len(os.Args) > 2 && os.Args[1] == "serve" {
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "hello from go")
		})
		fmt.Println("serving")
		if err := http.ListenAndServe(":"+os.Args[2], nil); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
	}
}
