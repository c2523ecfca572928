# expect: runtime: memorie
s = 'a' * 100000
x = s.replace('a', s)
