# expect: runtime: memorie
s = 'a' * 50000000
x = str([s] * 1000)
