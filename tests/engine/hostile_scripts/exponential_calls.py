# expect: runtime: timp
g = lambda n: 1 if n < 2 else g(n - 1) + g(n - 2)
x = g(60)
