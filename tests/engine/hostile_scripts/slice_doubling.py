# expect: runtime: memorie
a = [1]
for i in range(64):
    a[len(a):] = a
