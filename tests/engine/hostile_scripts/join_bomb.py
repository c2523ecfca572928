# expect: runtime: memorie
s = 'a' * 1000000
x = ''.join([s] * 1000)
