"""Command-line entry points: main (train), sample, evaluate, benchmark, ...

Started as `python -m experiments.<name>`, the process first re-executes itself with glibc's
transparent huge pages for large allocations (experiments/host_memory.py).
"""

from experiments import host_memory

host_memory.reexec_with_huge_pages()
