# expect: runtime: memorie|timp
a = []
while True:
    a.append('x' * 1000)
