# expect: runtime: biți
x = 10**10**8
