# expect: runtime: memorie
f = 'a'.ljust
x = f(10**10)
