import { Fn, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { nagText } from '../lib/private/nag-text';

describe('nagText: a value as cdk-nag prints it in a finding id', () => {
  const stack = new Stack();
  const bucket = new s3.Bucket(stack, 'Store');
  const id = stack.getLogicalId(bucket.node.defaultChild as never);
  test.each([
    ['a literal', 'arn:aws:s3:::fixed/*', 'arn:aws:s3:::fixed/*'],
    ['a GetAtt', bucket.bucketArn, `<${id}.Arn>`],
    ['a Ref', bucket.bucketName, `<${id}>`],
    ['a join of both', `${bucket.bucketArn}/judge/svc/*`, `<${id}.Arn>/judge/svc/*`],
    ['a join with a separator', Fn.join(',', ['a', bucket.bucketName]), undefined],
    ['an intrinsic it does not print', Fn.select(0, Fn.split(',', bucket.bucketName)), undefined],
  ])('%s', (_name, value, expected) => {
    expect(nagText(stack, value)).toBe(expected);
  });
});
