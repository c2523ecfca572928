# expect: runtime: memorie
s = 'a' * 50000000
x = '%s' % ([s] * 1000,)
