# expect: runtime: adânc
f = lambda n: f(n + 1)
x = f(0)
