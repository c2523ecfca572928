# expect: runtime: memorie
x = f'{1:>1000000000}'
