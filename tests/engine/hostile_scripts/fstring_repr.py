# expect: runtime: memorie
s = 'a' * 50000000
x = f'{[s] * 1000}'
