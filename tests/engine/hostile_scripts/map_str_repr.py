# expect: runtime: memorie
s = 'a' * 50000000
x = list(map(str, [[s] * 1000]))
