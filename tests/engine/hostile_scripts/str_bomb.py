# expect: runtime: memorie
x = 'a' * 10**10
