# expect: runtime: memorie
row = [0] * 1000000
x = sum([row] * 60, [])
