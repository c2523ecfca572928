# expect: runtime: interval
x = list(range(10**10))
