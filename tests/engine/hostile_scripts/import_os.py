# expect: static
import os
x = os.getcwd()
