#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# which_set_gen.py: writes which_set.txt, the expected TensorFlow which_set() results for tests/test_data.c.
# Generated with: /usr/bin/python3 tests/data/which_set_gen.py > tests/data/which_set.txt
# The function below is TensorFlow's tensorflow/examples/speech_commands/input_data.py which_set() (docs/design.md
# s2.2), using Python's hashlib, with validation_percentage = testing_percentage = 10.
import hashlib
import os
import re

MAX_NUM_WAVS_PER_CLASS = 2**27 - 1


def which_set(filename, validation_percentage, testing_percentage):
    base_name = os.path.basename(filename)
    hash_name = re.sub(r'_nohash_.*$', '', base_name)
    hash_name_hashed = hashlib.sha1(hash_name.encode('utf-8')).hexdigest()
    mod = int(hash_name_hashed, 16) % (MAX_NUM_WAVS_PER_CLASS + 1)
    percentage_hash = mod * (100.0 / MAX_NUM_WAVS_PER_CLASS)
    if percentage_hash < validation_percentage:
        result = 'validation'
    elif percentage_hash < (testing_percentage + validation_percentage):
        result = 'testing'
    else:
        result = 'training'
    return mod, percentage_hash, result


names = ['yes/0a7c2a8d_nohash_1.wav', 'no/0a7c2a8d_nohash_0.wav', 'up/8fe67225_nohash_4.wav',
         'bird/53fd1780_nohash_0.wav', 'bed/105e72bb_nohash_0.wav', 'backward/f2e59fea_nohash_4.wav',
         'x/noprefix.wav', 'x/a_nohash_b_nohash_c.wav', 'x/_nohash_.wav', 'x/ffffffff_nohash_0.wav',
         'deep/dir/00000000_nohash_9.wav', 'x/speaker with space_nohash_1.wav']
# plus a deterministic spread of 8-hex-digit speaker ids, enough to hit all three sets many times
for i in range(200):
    sid = hashlib.md5(str(i).encode()).hexdigest()[:8]
    names.append('w%d/%s_nohash_%d.wav' % (i % 7, sid, i % 5))

print('# which_set.txt: TensorFlow which_set(path, 10, 10) computed with Python hashlib.')
print('# Generated with: /usr/bin/python3 tests/data/which_set_gen.py > tests/data/which_set.txt')
print('# Columns (tab-separated): path, int(sha1hex,16) % 2^27, percentage_hash (repr), set')
for n in names:
    mod, pct, s = which_set(n, 10, 10)
    print('%s\t%d\t%r\t%s' % (n, mod, pct, s))
