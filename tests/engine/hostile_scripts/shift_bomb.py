# expect: runtime: biți
x = 1 << 10**10
