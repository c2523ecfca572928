# expect: runtime: memorie
s = 'a' * 40000000
x = (s.upper(), s.upper(), s.upper(), s.upper(), s.upper(), s.upper())
